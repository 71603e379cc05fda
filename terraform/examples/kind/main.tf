# mlta on a local kind cluster: `kind create cluster --name mlta`, load the operator image
# (`kind load docker-image mlta/operator:0.1.0 --name mlta`), then `terraform init && terraform apply`.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0.0, < 4.0.0"
    }
  }
}

provider "helm" {
  kubernetes = {
    config_path    = var.kubeconfig
    config_context = var.kube_context
  }
}

module "mlta" {
  source = "../../modules/mlta-platform"

  environment      = "development"
  backend          = "kuberay"
  storage_uri      = var.storage_uri
  image_repository = "mlta/operator"
  image_tag        = var.image_tag
  install_kuberay  = true
  metrics_enabled  = false

  # A laptop: small requests so everything fits on one kind node.
  operator_resources = {
    requests = { cpu = "50m", memory = "128Mi" }
    limits   = { memory = "512Mi" }
  }

  extra_values = {
    image = {
      repository = "mlta/operator"
      tag        = var.image_tag
      # The image is side-loaded with `kind load`, never pulled.
      pullPolicy = "Never"
    }
  }
}
