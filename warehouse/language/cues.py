"""The cue words of a sales question: comparisons, families of question, ranking directions,
dimension words, losses. Understanding reads them to fill slots; the closed-world check reads
them to know which words a question's slots account for."""

from __future__ import annotations

YOY = (r"\b(same (period|time|week|month|quarter|day) (last|a|the previous|previous|prior) year|year over year|"
        r"same (period|time|week|month|quarter|day) ly|"
        r"year on year|yoy|y/y|vs\.? (the )?(last|previous|prior) (year|yr)|versus (the )?(last|previous|prior) (year|yr)|"
        r"compared? (to|with) (the )?(last|previous|prior) (year|yr)|on last year|over last year|than last year|"
        r"against (the )?(last|previous|prior) (year|yr)|(ahead of|behind|beat|beating|vs\.?|versus|against|on|over|compared? (to|with)|than) (ly|py)|"
        r"(ahead of|behind) last year|the year before|a year ago|a year earlier|last year's|"
        r"(vs\.?|versus|compared (to|with)|against|than) (the same )?(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|q[1-4]) (of )?last year)\b")
PREV = (r"\b(vs|versus|compared|compare|comparison|change|changed|changes|growth|grow|grew|increase|"
         r"increased|decrease|decreased|declin\w*|drop|dropped|up or down|mom|wow|qoq|month over month|"
         r"week over week|quarter over quarter|period before|previous period|prior period|delta|"
         r"better|worse|improve\w*|"
         r"against (the )?(previous|prior|preceding|last) (day|week|month|quarter|period)|"
         r"against the (day|week|month|quarter) before|(day|days|week|month|quarter) before)\b")
FAMILY_CUES: list[tuple[str, str]] = [
    ("customers", r"\b(new (vs|versus|and|or) (returning|repeat|existing)|new customers?|returning customers?|"
                  r"repeat customers?|customer acquisition|first.time (customers|buyers)|"
                  r"new (accounts?|clients?|buyers?|logos?)|first.time (accounts|clients))\b"),
    ("drivers", r"\b(why|what drove|drivers?|driving|explain\w*|reasons?|behind the|what caused|cause[sd]?|"
                r"what happened|what (accounts?|accounted) for)\b"),
    ("movers", r"\b(movers?|moved the most|biggest (changes|swings|gainers|losers|decliners|shifts)|gainers|"
               r"decliners|risers|fallers|winners and losers|swings?|changed (the )?most|"
               r"(largest|biggest) (change|shift|swing)s?)\b"),
    ("trend", r"\b(trend\w*|over time|week by week|month by month|weekly|monthly|by week|by month|"
              r"last 12 (weeks|months)|trajectory|evolution)\b"),
    ("share", r"(\b(share of|(what|which) share|market share|percentage of|percent of|proportion|portion|"
              r"fraction|how much of)\b|(?<!\S)% of\b)"),
    ("breakdown", r"\b(by|per|split|breakdown|break down|broken down|mix|across|each)\b"),
]
TOP = r"\b(top|best|highest|most|largest|biggest|leading|strongest|greatest|max|maximum)\b"
BOTTOM = r"\b(bottom|worst|lowest|least|smallest|weakest|poorest|min|minimum|fewest)\b"
GENERIC_PERFORMANCE = (r"\b(how did (we|it) do|how did .* go|how did (.{1,40} )?(do|perform)|how are we doing|how we did|"
                        r"performance|numbers?|results|"
                        r"how was|summary|recap|overview|snapshot|update|quick read|read on|rundown|"
                        r"headline|figures|kpis?)\b")
LOSS = r"\b(least profitable|less profitable|unprofitable|los(t|e|ing) (the most )?money|lost the most|" \
        r"los(e|ing) the most|biggest loss\w*|loss making|in the red)\b"
MOST_PROFITABLE = r"\b(most|more|highly) profitable\b"
