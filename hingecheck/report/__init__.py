"""The self-contained report.html of one analysis (``html.write_report``) and its Jinja2 templates."""
