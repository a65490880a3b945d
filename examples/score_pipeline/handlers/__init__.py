"""Lambda handlers of the score pipeline example."""
