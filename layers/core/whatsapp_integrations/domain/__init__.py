"""Rules of the domain. Nothing here performs I/O or imports an adapter."""
