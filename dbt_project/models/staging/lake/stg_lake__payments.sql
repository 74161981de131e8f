select
    id as payment_id,
    invoice_id,
    user_id as customer_id,
    status,
    failure_code,
    attempt,
    currency,
    amount,
    fee,
    fx_rate,
    amount_usd,
    fee_usd,
    {{ lake_timestamp('created_at') }} as created_at,
    payment_date
from {{ source('silver', 'payments') }}
