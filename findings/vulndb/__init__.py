"""The local vulnerability database (NVD CVE configurations an operator loads with `manage.py load_nvd`) and
CVE matching of the products nmap -sV detected. Nothing here touches the network."""
