"""The airlock component package: every component usable from any Pulumi language.

``codegen`` writes the argument types (``argtypes``) from the settings models; ``components``
holds the facades (the Python components with plain-data arguments); ``inputs`` turns what
another language sends into a validated stack; ``provider`` is the plugin ``provider/`` runs
and the schema ``make schema`` writes. Nothing here is imported by a Python stack.
"""
