"""Seed 001's results view: a scan's hosts, ports, services, certificates and banners as entities and the
associations between them."""
