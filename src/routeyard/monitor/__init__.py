"""Live-health I/O beside the refresher: outcomes buffered, flushed and read through the Store
(:mod:`routeyard.monitor.health`). The maths stays pure in :mod:`routeyard.health`."""
