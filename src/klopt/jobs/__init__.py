"""Background work: the schedule that syncs sources, judges new posts and checks alerts,
with a lease in the store so that two workers never run the same job at once.

- :mod:`klopt.jobs.leases`: which worker runs which job now;
- :mod:`klopt.jobs.runs`: what ran, when, how it ended;
- :mod:`klopt.jobs.schedule`: the jobs per organisation and one round of them;
- :mod:`klopt.jobs.worker`: round after round, in the foreground or in a thread.
"""

from klopt.jobs.leases import Lease, LeaseInfo, list_leases, take_lease, worker_name
from klopt.jobs.runs import RunInfo, list_runs
from klopt.jobs.schedule import JOB_KINDS, Job, JobKind, Outcome, Round, Timing, run_round
from klopt.jobs.worker import Worker, start_worker, worker_actor

__all__ = [
    "JOB_KINDS",
    "Job",
    "JobKind",
    "Lease",
    "LeaseInfo",
    "Outcome",
    "Round",
    "RunInfo",
    "Timing",
    "Worker",
    "list_leases",
    "list_runs",
    "run_round",
    "start_worker",
    "take_lease",
    "worker_actor",
    "worker_name",
]
