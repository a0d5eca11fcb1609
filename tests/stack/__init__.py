"""Throwaway servers for integration tests: Dovecot + Postfix (mailstack) and PostgreSQL (pgserver).

Both modules are stdlib-only so they also run as plain scripts (by hand, in CI, from benchmarks).
"""
