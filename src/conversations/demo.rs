pub async fn seed(_app: &crate::app::App, _org: i64) -> anyhow::Result<()> {
    Ok(())
}
