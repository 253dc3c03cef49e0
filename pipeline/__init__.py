"""Pipeline stages over all sources at once: normalize, tag, dedupe, track (one verb a module).

Stages take and return ``core.model`` values; none of them touches SQLite or the network.
"""
