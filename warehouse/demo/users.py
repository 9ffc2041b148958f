"""The demo users directory: a deterministic company of VPs, managers and reps over the demo geography."""

from __future__ import annotations

import numpy as np

from warehouse.demo.orders import CATEGORIES, REGIONS, SEGMENTS, full_names, person_names, state_table
from warehouse.storage.users import ACCESS_RIGHTS, Scope, User


def generate_users(n_users: int, seed: int = 7) -> list[User]:
    """A deterministic users directory of ``n_users`` people (ids u001...).

    One VP per ~50 users (at least one), the four regional managers, an admin and a data
    engineer, the three category managers, then segment leads (~30%) and sales reps; with
    ``n_users=5``: one VP and four regional managers.
    """
    if n_users < 1:
        raise ValueError("n_users must be at least 1")
    rng = np.random.default_rng([seed, 3])
    plan = _role_plan(rng, n_users)
    first, last = person_names(rng, n_users)
    width = max(3, len(str(n_users)))
    return [User(f"u{i + 1:0{width}d}", str(name), role, Scope.parse(scope), frozenset({role} & set(ACCESS_RIGHTS)))
            for i, (name, (role, scope)) in enumerate(zip(full_names(first, last), plan))]


def _role_plan(rng: np.random.Generator, n_users: int) -> list[tuple[str, str]]:
    """(role, scope text) for each user, in directory order."""
    plan = [("vp_sales", "*")] * max(1, n_users // 50)
    plan += [("regional_manager", f"region={r}") for r in REGIONS]
    plan += [("admin", "*"), ("data_engineer", "*")]
    plan += [("category_manager", f"category={c}") for c in CATEGORIES]
    plan = plan[:n_users]
    rest = n_users - len(plan)
    leads = [(r, s) for r in REGIONS for s in SEGMENTS]
    n_leads = round(rest * 0.3)
    plan += [("segment_lead", "region={};segment={}".format(*leads[i % len(leads)])) for i in range(n_leads)]
    states = state_table()
    picks = rng.choice(len(states), rest - n_leads, p=(states.weight / states.weight.sum()).to_numpy())
    plan += [("sales_rep", f"region={states.region[k]};state={states.state[k]}") for k in picks]
    return plan
