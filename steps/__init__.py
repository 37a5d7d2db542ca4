"""Step definitions: thin — parse the sentence, call the engine, record evidence."""
