"""Quality management: forms (versioned), evaluations, answers, disputes, evaluator workload."""

from __future__ import annotations
