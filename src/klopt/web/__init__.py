"""klopt in the browser: ``klopt serve`` (see :func:`klopt.web.app.create_app`)."""
