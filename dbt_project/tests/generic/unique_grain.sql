{# The model has exactly one row per combination of the grain's columns. #}
{% test unique_grain(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_at_grain
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
