"""Historical service: the API that accepts query jobs and the workers that run them.

Where a job runs: the API only publishes a request event; workers answer
with progress and completion events that the dashboard subscribes to.
"""
