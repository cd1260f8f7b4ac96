"""Training Studio's engine: data, models, training, baseline, evaluation and charts. Never imports Streamlit."""
