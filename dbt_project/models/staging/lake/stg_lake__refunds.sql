select
    id as refund_id,
    payment_id,
    invoice_id,
    invoice_line_id,
    user_id as customer_id,
    reason,
    currency,
    amount,
    tax_amount,
    revenue_amount,
    fx_rate,
    amount_usd,
    tax_amount_usd,
    revenue_amount_usd,
    {{ lake_timestamp('created_at') }} as created_at,
    refund_date
from {{ source('silver', 'refunds') }}
