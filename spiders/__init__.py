"""Scrapy spiders: one generic spider per source type, configured from the sources file.

Spiders extract ``core.model.RawEvent`` values as found; cleaning, tagging and merging run
later over all sources at once. Scrapy is used only inside this package.
"""
