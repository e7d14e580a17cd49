package discovery

import "github.com/renkei-idwsf/renkei/wsf"

// consentWords are the consent page's texts in one language.
type consentWords struct {
	Site, SwitchTo, OtherLang              string
	Heading, Asks, PurposeLabel, NoPurpose string
	ServicesHeading, ServiceLabel          string
	InstitutionLabel, NoServices           string
	AnswerHeading, AllowMeans, RefuseMeans string
	Legend, Allow, Refuse                  string
	UsedTitle, UsedAdvice                  string
	ReturnToTitle, ReturnToAdvice          string
	IncompleteTitle, IncompleteAdvice      string
	InternalTitle, InternalAdvice          string
	NothingRecorded                        string
	ServiceTypes, Purposes                 map[string]string
}

// words returns the human words for a known URI with the URI beside
// them, or fallback alone.
func (t *consentWords) words(known map[string]string, uri, fallback string) (string, string) {
	if w, ok := known[uri]; ok {
		return w, uri
	}
	return fallback, ""
}

// consentText holds the page's languages: Japanese and English
// (ARCHITECTURE "Consent").
var consentText = map[string]*consentWords{
	"ja": {
		Site: "Renkei ディスカバリサービス", SwitchTo: "English", OtherLang: "en",
		Heading:      "サービスとの連携に同意しますか",
		Asks:         "が、下記の機関であなたの情報を探すことについて、あなたの同意を求めています。",
		PurposeLabel: "利用目的", NoPurpose: "記載なし",
		ServicesHeading:  "機関とサービス",
		ServiceLabel:     "サービスの種類",
		InstitutionLabel: "機関の識別子",
		NoServices:       "対象のサービスは既に削除されています。",
		AnswerHeading:    "ご回答",
		AllowMeans:       "「同意する」を選ぶと、この連携が記録され、依頼元は今後これらのサービスを見つけられるようになります。同意はポータルの連携機関のページからいつでも取り消せます。",
		RefuseMeans:      "「同意しない」を選ぶと、何も記録されずに依頼元へ戻ります。",
		Legend:           "カードの名義人として回答してください",
		Allow:            "同意する", Refuse: "同意しない",
		UsedTitle:        "このリンクは使用済みか、有効期限が切れています",
		UsedAdvice:       "同意のリンクは一度だけ、10分以内に使えます。ポータルに戻って、もう一度操作してください。",
		ReturnToTitle:    "戻り先のアドレスが正しくありません",
		ReturnToAdvice:   "このページを開いたサイトが、自分のものではない戻り先を指定しました。安全のため、どこへも移動しません。サイトの運営者に連絡してください。",
		IncompleteTitle:  "リクエストが不完全です",
		IncompleteAdvice: "リンクまたはフォームの内容が足りません。ポータルに戻って、もう一度操作してください。",
		InternalTitle:    "エラーが発生しました",
		InternalAdvice:   "しばらくしてから、ポータルに戻ってもう一度操作してください。",
		NothingRecorded:  "連携は記録されていません。",
		ServiceTypes: map[string]string{
			"urn:renkei:svc:clinical:1.0":    "診療情報（検査結果・処方）",
			"urn:renkei:svc:checkup:1.0":     "健康診断の結果",
			"urn:renkei:svc:appointment:1.0": "外来の予約",
			"urn:renkei:svc:eligibility:1.0": "保険の資格情報",
			"urn:renkei:svc:pension:1.0":     "年金記録",
			"urn:renkei:svc:audit:1.0":       "アクセス記録",
		},
		Purposes: map[string]string{
			wsf.PurposeSelf:        "ご本人による閲覧",
			wsf.PurposeEligibility: "保険資格の確認",
			wsf.PurposeTreatment:   "診療",
		},
	},
	"en": {
		Site: "Renkei Discovery Service", SwitchTo: "日本語", OtherLang: "ja",
		Heading:      "Do you agree to link these services?",
		Asks:         "asks for your consent to find your records at the institutions below.",
		PurposeLabel: "Purpose", NoPurpose: "Not stated",
		ServicesHeading:  "Institutions and services",
		ServiceLabel:     "Service",
		InstitutionLabel: "Institution identifier",
		NoServices:       "The services asked about have been removed meanwhile.",
		AnswerHeading:    "Your answer",
		AllowMeans:       "If you allow, the link is recorded and the site that asked can find these services from now on. You can withdraw it at any time on your portal's linked-institutions page.",
		RefuseMeans:      "If you refuse, nothing is recorded and you go back to the site that asked.",
		Legend:           "Answer as the card holder",
		Allow:            "Allow", Refuse: "Refuse",
		UsedTitle:        "This link was already used or has expired",
		UsedAdvice:       "A consent link works once, within 10 minutes. Go back to your portal and start again.",
		ReturnToTitle:    "The return address is not valid",
		ReturnToAdvice:   "The site that sent you here gave a return address that is not its own. For your safety you are not sent anywhere. Contact the site's operator.",
		IncompleteTitle:  "The request is incomplete",
		IncompleteAdvice: "The link or the form lacks a part. Go back to your portal and start again.",
		InternalTitle:    "Something went wrong",
		InternalAdvice:   "Please go back to your portal and try again in a few minutes.",
		NothingRecorded:  "No link was recorded.",
		ServiceTypes: map[string]string{
			"urn:renkei:svc:clinical:1.0":    "Clinical records (lab results, prescriptions)",
			"urn:renkei:svc:checkup:1.0":     "Health check-up results",
			"urn:renkei:svc:appointment:1.0": "Outpatient appointments",
			"urn:renkei:svc:eligibility:1.0": "Health insurance eligibility",
			"urn:renkei:svc:pension:1.0":     "Pension record",
			"urn:renkei:svc:audit:1.0":       "Access log",
		},
		Purposes: map[string]string{
			wsf.PurposeSelf:        "You reading your own records",
			wsf.PurposeEligibility: "Checking insurance eligibility",
			wsf.PurposeTreatment:   "Treatment",
		},
	},
}
