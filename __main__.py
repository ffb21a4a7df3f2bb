"""airlock: validate the stack's configuration, then compose the Platform and export its outputs."""

import gc
from pathlib import Path

from airlock.platform import Platform, PlatformArgs
from airlock.stack import load

# A run is a short batch job that builds many thousands of objects (resources, Outputs, asyncio
# tasks). At Python's default young-generation threshold (700) the cyclic collector rescans them
# over and over: the cost per vcluster tenant grew from 16 ms at 10 tenants to 22 ms at 100.
# At 10,000 it stays linear (README, Performance); the extra memory is a few thousand objects.
gc.set_threshold(10_000, 10, 10)

platform = Platform("airlock", PlatformArgs(loaded=load(Path(__file__).resolve().parent)))
platform.export()
