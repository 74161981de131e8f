select
    id as plan_id,
    product,
    name as plan_name,
    "interval" as billing_interval,
    interval_count,
    unit_amount,
    currency
from {{ source('silver', 'plans') }}
