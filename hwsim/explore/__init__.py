"""Design-space exploration on optuna: spaces, the fast evaluator, the accuracy proxy, runs.

>>> from hwsim.explore import explore, load_space
>>> res = explore("experiments/spaces/llama_lut_precision.yaml", n_trials=200,
...               storage="memory", progress=False)          # doctest: +SKIP
>>> print(res.table())                                        # doctest: +SKIP
"""

from .evaluator import Design, Evaluator
from .proxy import AccuracyProxy, relative_error, synthetic_tensor
from .runner import SAMPLERS, ExploreResult, explore, make_storage
from .space import OBJECTIVES, Space, load_space

__all__ = ["explore", "ExploreResult", "Space", "load_space", "Evaluator", "Design",
           "AccuracyProxy", "relative_error", "synthetic_tensor", "SAMPLERS", "OBJECTIVES",
           "make_storage"]
