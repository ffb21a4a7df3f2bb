"""The airlock component package's plugin: the Python language host runs this file with the
engine's address; it serves ImageConfig, PrivateRegistry, VirtualCluster, Gateway, Crossplane,
NodeRegistryConfig and Platform (``airlock.package``)."""

from airlock.package.provider import main

if __name__ == "__main__":
    main()
