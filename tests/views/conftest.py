from tests.widgets.conftest import (  # noqa: F401 - shared fixtures
    _chinese_ui,
    _instant_scans,
    _no_leaked_windows,
    answer_confirm,
    city_store,
    sink,
    store,
)
