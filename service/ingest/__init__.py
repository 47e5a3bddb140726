"""From a submitted event to one the store can record: places resolved, references checked."""
