"""The GitHub Action: inputs, masking, file-command exports, step summary, post-step cleanup.

Order of a run (github-runner.md §2): mask the token → exchange → mask the JWT → fetch → build the
plan → mask every value → only then log, annotate and write file commands.
"""
