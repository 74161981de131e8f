{# Everything that moves revenue, one row per entry, in the currency of its invoice and in USD:
   - an invoice line: billed on its invoice's day, recognized over its service period
     [service_start, service_end), or at once on its day when it has none (usage, one-offs);
   - a refund: un-bills the revenue it reverses on its own day, and reverses recognition as the
     books do: first what the line still had to recognize from the refund on (spread over that rest
     of the period: entry_type refund_unrecognized), the remainder at once on the refund's day
     (entry_type refund).
   Lines convert at the invoice's day, refunds at the refund's day. #}
with

invoice_lines as (select * from {{ ref('stg_lake__invoice_lines') }}),
refunds as (select * from {{ ref('stg_lake__refunds') }}),

lines as (
    select
        'invoice_line' as entry_type,
        invoice_line_id as source_id,
        invoice_line_id,
        product,
        currency,
        created_at as booked_at,
        net_amount as billed_amount,
        net_amount_usd as billed_amount_usd,
        net_amount as recognized_amount,
        net_amount_usd as recognized_amount_usd,
        case when service_end > service_start then service_start end as recognized_from,
        case when service_end > service_start then service_end end as recognized_until
    from invoice_lines
),

refunded_lines as (
    select
        refunds.refund_id,
        refunds.invoice_line_id,
        refunds.currency,
        refunds.created_at as refunded_at,
        refunds.revenue_amount,
        refunds.revenue_amount_usd,
        refunds.fx_rate,
        -- a refund without its line leaves product null, which the product tests report
        invoice_lines.product,
        invoice_lines.net_amount as line_net_amount,
        invoice_lines.service_start,
        invoice_lines.service_end,
        case
            when invoice_lines.service_end > invoice_lines.service_start
                and refunds.created_at < invoice_lines.service_end
                then case
                    when refunds.created_at > invoice_lines.service_start then refunds.created_at
                    else invoice_lines.service_start
                end
        end as unrecognized_from
    from refunds
    left join invoice_lines on refunds.invoice_line_id = invoice_lines.invoice_line_id
),

reversals as (
    select
        *,
        case
            when unrecognized_from is null then 0
            else least(
                revenue_amount,
                line_net_amount
                * cast({{ dbt.datediff('unrecognized_from', 'service_end', 'microsecond') }} as double precision)
                / cast({{ dbt.datediff('service_start', 'service_end', 'microsecond') }} as double precision)
            )
        end as unrecognized_reversed
    from refunded_lines
),

refunds_of_unrecognized as (
    select
        'refund_unrecognized' as entry_type,
        refund_id as source_id,
        invoice_line_id,
        product,
        currency,
        refunded_at as booked_at,
        cast(0 as double precision) as billed_amount,
        cast(0 as double precision) as billed_amount_usd,
        -unrecognized_reversed as recognized_amount,
        -unrecognized_reversed * fx_rate as recognized_amount_usd,
        unrecognized_from as recognized_from,
        service_end as recognized_until
    from reversals
    where unrecognized_reversed <> 0
),

refunds_on_their_day as (
    select
        'refund' as entry_type,
        refund_id as source_id,
        invoice_line_id,
        product,
        currency,
        refunded_at as booked_at,
        -revenue_amount as billed_amount,
        -revenue_amount_usd as billed_amount_usd,
        unrecognized_reversed - revenue_amount as recognized_amount,
        (unrecognized_reversed - revenue_amount) * fx_rate as recognized_amount_usd,
        cast(null as {{ dbt.type_timestamp() }}) as recognized_from,
        cast(null as {{ dbt.type_timestamp() }}) as recognized_until
    from reversals
)

select * from lines
union all
select * from refunds_of_unrecognized
union all
select * from refunds_on_their_day
