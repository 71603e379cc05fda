# Installs the mlta platform on an existing cluster: the KubeRay operator (optional) and the
# mlta chart (operator Deployment, RBAC, CRDs). Providers are configured by the caller.

locals {
  chart = coalesce(var.chart_path, "${path.module}/../../../charts/mlta")

  mlta_values = merge({
    image = {
      repository = var.image_repository
      tag        = var.image_tag
    }
    env     = var.environment
    backend = var.backend
    ray = {
      dashboardUrl = var.ray_dashboard_url
    }
    storage = {
      uri               = var.storage_uri
      credentialsSecret = var.storage_credentials_secret
    }
    kuberay = {
      image = var.ray_image
    }
    metrics = {
      enabled = var.metrics_enabled
    }
    resources = var.operator_resources
  }, var.extra_values)

  # Mirrors the chart's "mlta.fullname" helper.
  operator_name = length(regexall("mlta", var.release_name)) > 0 ? "${var.release_name}-operator" : "${var.release_name}-mlta-operator"
}

resource "helm_release" "kuberay_operator" {
  count = var.install_kuberay ? 1 : 0

  name             = "kuberay-operator"
  repository       = var.kuberay_chart_repository
  chart            = "kuberay-operator"
  version          = var.kuberay_chart_version
  namespace        = var.kuberay_namespace
  create_namespace = var.create_namespace
  wait             = var.wait
}

resource "helm_release" "mlta" {
  name             = var.release_name
  repository       = var.chart_repository
  chart            = local.chart
  version          = var.chart_version
  namespace        = var.namespace
  create_namespace = var.create_namespace
  wait             = var.wait

  # The chart's crds/ directory installs the CRDs on first install; Helm never upgrades
  # CRDs, so an upgrade that changes them must apply crds/ first (see README.md).
  skip_crds = false

  values = [yamlencode(local.mlta_values)]

  depends_on = [helm_release.kuberay_operator]
}
