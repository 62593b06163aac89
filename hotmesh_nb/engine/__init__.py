"""The HotMesh engine: YAML apps run by stateless engines and workers over Redis streams."""
