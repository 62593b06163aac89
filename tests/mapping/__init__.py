"""Tests of hotmesh_nb.mapping."""
