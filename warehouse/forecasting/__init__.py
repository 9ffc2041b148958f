"""Who will ask what tomorrow: data signals inside each scope, each user's habits, their peers'
questions, role defaults, and the economics that choose how many answers to pre-compute.

May import: ``warehouse.language``, ``warehouse.semantic`` and ``warehouse.storage``.
"""
