"""Entry points that Ray jobs run; each reads a JobEnvelope and reports a JobResult."""
