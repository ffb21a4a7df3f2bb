"""airlock: one controlled door for every container image a Kubernetes platform pulls."""
