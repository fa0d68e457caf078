/* console_cases: filled in by its feature. */
