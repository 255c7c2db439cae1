"""Quality tables: forms and their versions, evaluations, disputes, workload, calibration."""

from extension.quality.models import calibration, evaluations, fetches  # noqa: F401  (register tables)
