"""The pipeline: receive, process, deliver."""
