"""From scores to crying episodes: pure logic, no audio, no model."""
