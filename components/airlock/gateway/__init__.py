"""Envoy Gateway: the images it runs and the fields it reads them from.

The Gateway component arrives with its own issue; this room holds what the image policy
already needs of it: the pinned catalog entries and the EnvoyProxy image field format.
"""
