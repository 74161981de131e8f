{# Marts live in schemas named for their domain (learning, marketing, finance), not <target>_<domain>. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
