{# Each conversion with its value (METRICS.md, Marketing: Conversion): for a paid conversion, the net
   cash collected from the customer in the 90 days from the conversion, [converted_at, +90 days):
   succeeded payments minus refunds, each in USD at the rate of its own day. The window is open while
   those 90 days have not passed by the end of the last day with data; its value is not final then.
   Signups have no value. #}
with

conversions as (select * from {{ ref('int_conversions_identified') }}),
payments as (select * from {{ ref('stg_lake__payments') }}),
refunds as (select * from {{ ref('stg_lake__refunds') }}),
days as (select * from {{ ref('int_days_spined') }}),

data_end as (
    select cast({{ dbt.dateadd('day', 1, 'max(calendar_date)') }} as {{ dbt.type_timestamp() }}) as data_end
    from days
),

cash_movements as (
    select customer_id, created_at as moved_at, amount_usd as cash_usd
    from payments
    where status = 'succeeded'

    union all

    select customer_id, created_at as moved_at, -amount_usd as cash_usd
    from refunds
),

value_windows as (
    select
        conversion_id,
        user_id,
        converted_at,
        {{ dbt.dateadd('day', 90, 'converted_at') }} as value_window_end
    from conversions
    where conversion_type = 'paid'
),

conversion_values as (
    select
        value_windows.conversion_id,
        value_windows.value_window_end,
        coalesce(sum(cash_movements.cash_usd), 0) as value_usd
    from value_windows
    left join cash_movements
        on cash_movements.customer_id = value_windows.user_id
        and cash_movements.moved_at >= value_windows.converted_at
        and cash_movements.moved_at < value_windows.value_window_end
    group by value_windows.conversion_id, value_windows.value_window_end
)

select
    conversions.conversion_id,
    conversions.conversion_type,
    conversions.user_id,
    conversions.converted_at,
    conversions.conversion_date,
    conversions.subscription_id,
    conversions.product,
    conversions.conversion_number,
    conversions.is_new_customer,
    conversion_values.value_usd,
    cast(conversion_values.value_window_end as {{ dbt.type_timestamp() }}) as value_window_end,
    coalesce(conversion_values.value_window_end > data_end.data_end, false) as is_window_open
from conversions
cross join data_end
left join conversion_values on conversions.conversion_id = conversion_values.conversion_id
