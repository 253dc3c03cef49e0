"""Feed writers: ICS, JSON Feed, the HTML page and health report, and the HTTP server.

Writers take ``core.model.Event`` values and know nothing of spiders or the store.
"""
