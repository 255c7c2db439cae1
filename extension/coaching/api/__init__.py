"""Coaching's HTTP API: the stable way into text analytics and the trigger policy."""
