"""The imageSync room: the stack's mirror run in the cluster by sharded skopeo sync Jobs."""
