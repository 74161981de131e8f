{# Net and gross MRR retention over 1 and 12 months, and the month's logo churn, revenue churn and ARPA
   (METRICS.md, Finance: Retention, Logo churn rate, ARPA, Revenue churn rate), on MRR after discounts. #}
with

mrr as (select * from {{ ref('fct_mrr') }}),
movements as (select * from {{ ref('fct_mrr_movements') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

periods as (
    select 1 as period_months
    union all
    select 12 as period_months
),

first_month as (
    select min(month_start) as first_month
    from month_ends
),

windows as (
    select
        month_ends.month_start as month,
        periods.period_months,
        cast({{ dbt.dateadd('month', '-1 * periods.period_months', 'month_ends.month_start') }} as date)
            as period_start_month
    from month_ends
    cross join periods
),

-- before the first month of the spine there is no snapshot to start from
windows_with_history as (
    select
        windows.month,
        windows.period_months,
        windows.period_start_month,
        windows.period_start_month >= first_month.first_month as has_history
    from windows
    cross join first_month
),

-- cohort: the customers paying at the end of the period's start month, and what they pay at its end
cohort_members as (
    select
        windows.month,
        windows.period_months,
        starts.customer_id,
        starts.mrr as mrr_start,
        coalesce(ends.mrr, 0) as mrr_end
    from windows
    inner join mrr as starts
        on starts.month = windows.period_start_month
        and starts.mrr > 0
    left join mrr as ends
        on ends.customer_id = starts.customer_id
        and ends.month = windows.month
),

cohorts as (
    select
        month,
        period_months,
        count(*) as customers_start,
        sum(mrr_start) as mrr_start,
        sum(mrr_end) as mrr_end,
        sum(case when mrr_end < mrr_start then mrr_end else mrr_start end) as retained_mrr
    from cohort_members
    group by month, period_months
),

months as (
    select
        month,
        sum(mrr) as mrr,
        sum(case when mrr > 0 then 1 else 0 end) as paying_customers
    from mrr
    group by month
),

-- movement amounts are signed: churn and contraction are negative
month_movements as (
    select
        month,
        sum(case when movement = 'churn' then 1 else 0 end) as churned_customers,
        sum(case when movement = 'churn' then -amount else 0 end) as churned_mrr,
        sum(case when movement = 'contraction' then -amount else 0 end) as contraction_mrr
    from movements
    group by month
),

periods_measured as (
    select
        windows_with_history.month,
        windows_with_history.period_months,
        windows_with_history.period_start_month,
        case when windows_with_history.has_history then coalesce(cohorts.customers_start, 0) end
            as customers_start,
        case when windows_with_history.has_history then coalesce(cohorts.mrr_start, 0) end as mrr_start,
        case when windows_with_history.has_history then coalesce(cohorts.mrr_end, 0) end as mrr_end,
        case when windows_with_history.has_history then coalesce(cohorts.retained_mrr, 0) end as retained_mrr
    from windows_with_history
    left join cohorts
        on cohorts.month = windows_with_history.month
        and cohorts.period_months = windows_with_history.period_months
)

select
    cast(periods_measured.month as date) as month,
    cast(periods_measured.period_months as integer) as period_months,
    cast(periods_measured.period_start_month as date) as period_start_month,
    cast(periods_measured.customers_start as bigint) as customers_start,
    cast(periods_measured.mrr_start as double precision) as mrr_start,
    cast(periods_measured.mrr_end as double precision) as mrr_end,
    cast(periods_measured.mrr_end / nullif(periods_measured.mrr_start, 0) as double precision) as nrr,
    cast(periods_measured.retained_mrr / nullif(periods_measured.mrr_start, 0) as double precision) as grr,
    -- the month's own measures, on the one-month rows only
    cast(case when periods_measured.period_months = 1 then months.mrr end as double precision) as mrr,
    cast(case when periods_measured.period_months = 1 then months.paying_customers end as bigint)
        as paying_customers,
    cast(case when periods_measured.period_months = 1 then coalesce(month_movements.churned_customers, 0) end as bigint)
        as churned_customers,
    cast(
        case when periods_measured.period_months = 1 then coalesce(month_movements.churned_mrr, 0) end
        as double precision
    ) as churned_mrr,
    cast(
        case when periods_measured.period_months = 1 then coalesce(month_movements.contraction_mrr, 0) end
        as double precision
    ) as contraction_mrr,
    cast(
        case
            when periods_measured.period_months = 1
                then coalesce(month_movements.churned_customers, 0) * 1.0 / nullif(periods_measured.customers_start, 0)
        end as double precision
    ) as logo_churn_rate,
    cast(
        case
            when periods_measured.period_months = 1
                then (coalesce(month_movements.churned_mrr, 0) + coalesce(month_movements.contraction_mrr, 0))
                    / nullif(periods_measured.mrr_start, 0)
        end as double precision
    ) as revenue_churn_rate,
    cast(
        case when periods_measured.period_months = 1 then months.mrr / nullif(months.paying_customers, 0) end
        as double precision
    ) as arpa
from periods_measured
left join months on months.month = periods_measured.month
left join month_movements on month_movements.month = periods_measured.month
