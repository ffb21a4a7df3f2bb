"""Crossplane: the images it runs and the chart fields it reads them from.

The Crossplane component arrives with its own issue; this room holds what the image policy
already needs of it: the pinned catalog entry and the chart's image field format.
"""
