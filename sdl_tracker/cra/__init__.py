"""EU Cyber Resilience Act (Regulation (EU) 2024/2847): the Article 14 reporting clock, the stage
reports drafted from the records, and CSAF 2.0 advisories."""
