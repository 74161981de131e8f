{# METRICS.md, Marketing: Attribution: under every model the weights of a conversion sum to 1. #}
select
    conversion_id,
    attribution_model,
    sum(weight) as total_weight
from {{ ref('fct_attribution') }}
group by conversion_id, attribution_model
having abs(sum(weight) - 1) > 1e-9
