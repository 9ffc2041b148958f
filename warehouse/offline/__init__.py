"""Work done off the serving path: the backtest that replays history night by night, and the pair
scorer's labelled-pair loaders, calibration and training.

May import anything in ``warehouse``. Nothing in ``storage``, ``semantic``, ``language``,
``forecasting`` or ``night`` (nor the dashboard or the Dagster assets) may import it.
"""
