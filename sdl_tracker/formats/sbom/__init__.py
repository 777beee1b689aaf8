"""CycloneDX SBOMs of the user's product: resolve dependencies, build, validate, compare.

`model` holds the records and reads the product from `pyproject.toml`; `requirements` and
`environment` resolve the components; `document` builds and validates CycloneDX; `diff`
compares two recorded SBOMs.
"""
