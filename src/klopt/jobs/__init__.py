"""Background work: the schedule that syncs sources, judges new posts and checks alerts,
with a lease in the store so that two workers never run the same job at once."""
