"""What a question can mean in the data: the catalogue of intents (metrics, dimensions, shapes,
typed parameters), the periods they resolve to, the bound-parameter facts SQL over
``sales_facts``, template narratives, the grounding check and number formatting.

May import: ``warehouse.storage``.
"""
